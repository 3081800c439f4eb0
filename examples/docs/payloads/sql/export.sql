select region, sum(amount) as amount from docs_sales group by region order by region;
